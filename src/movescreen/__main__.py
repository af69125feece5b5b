"""``python -m movescreen``: the same command as ``movescreen``."""

from movescreen.cli import main

if __name__ == "__main__":
    main(prog_name="movescreen")
