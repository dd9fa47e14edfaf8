from vanban.gateway.app import MIGRATIONS, main
from vanban.gateway.settings import GatewaySettings
from vanban.platform.service import service_main

if __name__ == "__main__":
    service_main(
        service="gateway", settings_factory=GatewaySettings, app_main=main, migrations=MIGRATIONS
    )
