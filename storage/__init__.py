"""SQLAlchemy models, repositories and Alembic migrations: the only schema source is Alembic."""
