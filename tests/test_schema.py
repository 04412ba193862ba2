"""The migrations and the models describe the same schema, on every database."""

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from bot.db import create_engine
from bot.models import Base
from bot.schema import current_revision, head_revision


async def test_migrations_match_the_models(database_url: str) -> None:
    assert await current_revision(database_url) == head_revision()
    engine = create_engine(database_url)
    async with engine.connect() as connection:
        differences = await connection.run_sync(
            lambda sync: compare_metadata(
                MigrationContext.configure(sync, opts={"compare_type": True}), Base.metadata
            )
        )
    await engine.dispose()
    assert differences == []
