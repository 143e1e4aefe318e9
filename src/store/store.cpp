// Placeholder: the store module lands with the SQLite and PostgreSQL implementations.
namespace leeway::store {}
