from vanban.exchange.app import main
from vanban.exchange.settings import ExchangeSettings
from vanban.platform.service import service_main

if __name__ == "__main__":
    service_main(service="exchange", settings_factory=ExchangeSettings, app_main=main)
