from vanban.platform import command
from vanban.workflow.app import MIGRATIONS, main
from vanban.workflow.settings import WorkflowSettings

if __name__ == "__main__":
    raise SystemExit(command.main("workflow", WorkflowSettings, main, migrations=MIGRATIONS))
