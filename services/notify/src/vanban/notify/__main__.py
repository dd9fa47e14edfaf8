from vanban.notify.app import MIGRATIONS, main
from vanban.notify.settings import NotifySettings
from vanban.platform import command

if __name__ == "__main__":
    raise SystemExit(command.main("notify", NotifySettings, main, migrations=MIGRATIONS))
