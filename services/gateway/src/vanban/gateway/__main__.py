from vanban.gateway.app import MIGRATIONS, main
from vanban.gateway.settings import GatewaySettings
from vanban.platform import command

if __name__ == "__main__":
    raise SystemExit(command.main("gateway", GatewaySettings, main, migrations=MIGRATIONS))
