from usagelens.cli.main import app

app(prog_name="usagelens")
