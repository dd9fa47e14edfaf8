from vanban.documents.app import MIGRATIONS, main
from vanban.documents.settings import DocumentsSettings
from vanban.documents.textworker import COMMAND as TEXTWORKER
from vanban.platform import command

if __name__ == "__main__":
    raise SystemExit(
        command.main(
            "documents", DocumentsSettings, main, migrations=MIGRATIONS, commands=[TEXTWORKER]
        )
    )
