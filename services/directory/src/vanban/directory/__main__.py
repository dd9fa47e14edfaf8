import sys

from vanban.directory.app import MIGRATIONS, main
from vanban.directory.settings import DirectorySettings
from vanban.platform.service import service_main

if __name__ == "__main__":
    # `bootstrap` is the directory's own command; `serve` and `migrate` are the platform's.
    if len(sys.argv) > 1 and sys.argv[1] == "bootstrap":
        from vanban.directory.bootstrap import bootstrap_main

        raise SystemExit(bootstrap_main(sys.argv[2:]))
    service_main(
        service="directory",
        settings_factory=DirectorySettings,
        app_main=main,
        migrations=MIGRATIONS,
    )
