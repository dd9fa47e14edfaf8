from vanban.platform.migrations import run_env
from vanban.signing.adapters.db.tables import metadata

run_env(metadata)
