from vanban.exchange.adapters.db.tables import metadata
from vanban.platform.migrations import run_env

run_env(metadata)
