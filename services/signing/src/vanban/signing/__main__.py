from vanban.platform import command
from vanban.signing.app import main
from vanban.signing.settings import SigningSettings

if __name__ == "__main__":
    raise SystemExit(command.main("signing", SigningSettings, main))
