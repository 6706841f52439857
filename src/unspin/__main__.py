"""`python -m unspin`: the `unspin` command, for where only an interpreter is at hand (spark-submit,
through `unspin.batch.spark.main`, which hands over to it rather than import the CLI)."""

from unspin.cli.main import entry_point

if __name__ == "__main__":  # pragma: no branch
    entry_point()
