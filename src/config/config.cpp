// Placeholder: the config module lands with the YAML loader.
namespace leeway::config {}
