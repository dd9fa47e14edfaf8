from vanban.signing.app import main
from vanban.signing.settings import SigningSettings
from vanban.platform.service import service_main

if __name__ == "__main__":
    service_main(service="signing", settings_factory=SigningSettings, app_main=main)
