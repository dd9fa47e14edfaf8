from vanban.notify.app import MIGRATIONS, main
from vanban.notify.settings import NotifySettings
from vanban.platform.service import service_main

if __name__ == "__main__":
    service_main(
        service="notify",
        settings_factory=NotifySettings,
        app_main=main,
        migrations=MIGRATIONS,
    )
