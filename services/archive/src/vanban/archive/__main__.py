from vanban.archive.app import MIGRATIONS, main
from vanban.archive.settings import ArchiveSettings
from vanban.platform import command

if __name__ == "__main__":
    raise SystemExit(command.main("archive", ArchiveSettings, main, migrations=MIGRATIONS))
