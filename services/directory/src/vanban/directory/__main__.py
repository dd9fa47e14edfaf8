from vanban.directory.app import MIGRATIONS, main
from vanban.directory.bootstrap import BOOTSTRAP
from vanban.directory.settings import DirectorySettings
from vanban.platform import command

if __name__ == "__main__":
    raise SystemExit(
        command.main(
            "directory", DirectorySettings, main, migrations=MIGRATIONS, commands=[BOOTSTRAP]
        )
    )
