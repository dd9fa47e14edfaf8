from vanban.platform.service import service_main
from vanban.signing.app import main
from vanban.signing.settings import SigningSettings

if __name__ == "__main__":
    service_main(service="signing", settings_factory=SigningSettings, app_main=main)
