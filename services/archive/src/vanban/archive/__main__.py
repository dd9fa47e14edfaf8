from vanban.archive.app import MIGRATIONS, main
from vanban.archive.settings import ArchiveSettings
from vanban.platform.service import service_main

if __name__ == "__main__":
    service_main(
        service="archive",
        settings_factory=ArchiveSettings,
        app_main=main,
        migrations=MIGRATIONS,
    )
