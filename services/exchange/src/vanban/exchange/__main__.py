from vanban.exchange.app import MIGRATIONS, main
from vanban.exchange.settings import ExchangeSettings
from vanban.platform import command

if __name__ == "__main__":
    raise SystemExit(command.main("exchange", ExchangeSettings, main, migrations=MIGRATIONS))
