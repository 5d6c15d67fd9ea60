from usagelens.cli.main import app

# Guarded: a bulk load's worker processes import the main module again when they start.
if __name__ == "__main__":
    app(prog_name="usagelens")
