from portal_runtime.cli import make_cli

from billing.bootstrap import definition

make_cli(definition)()
