from vanban.documents.app import MIGRATIONS, main
from vanban.documents.settings import DocumentsSettings
from vanban.platform.service import service_main

if __name__ == "__main__":
    service_main(
        service="documents",
        settings_factory=DocumentsSettings,
        app_main=main,
        migrations=MIGRATIONS,
    )
