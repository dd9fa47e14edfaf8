from vanban.platform.service import service_main
from vanban.workflow.app import MIGRATIONS, main
from vanban.workflow.settings import WorkflowSettings

if __name__ == "__main__":
    service_main(
        service="workflow", settings_factory=WorkflowSettings, app_main=main, migrations=MIGRATIONS
    )
