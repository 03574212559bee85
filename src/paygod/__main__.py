"""`python -m paygod` runs the same CLI as the `paygod` console script."""

from paygod.cli.main import run

if __name__ == "__main__":
    run()
