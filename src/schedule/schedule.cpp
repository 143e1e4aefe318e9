// Placeholder: the scheduler lands here.
namespace leeway::schedule {}
