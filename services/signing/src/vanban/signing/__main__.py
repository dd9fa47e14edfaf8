from vanban.platform import command
from vanban.signing.adapters.softhsm import INIT_COMMAND
from vanban.signing.app import MIGRATIONS, main
from vanban.signing.settings import SigningSettings

if __name__ == "__main__":
    raise SystemExit(
        command.main(
            "signing", SigningSettings, main, migrations=MIGRATIONS, commands=[INIT_COMMAND]
        )
    )
