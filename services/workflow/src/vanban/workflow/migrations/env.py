from vanban.platform.migrations import run_env
from vanban.workflow.adapters.db.tables import metadata

run_env(metadata)
