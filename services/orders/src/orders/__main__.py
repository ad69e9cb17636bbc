from portal_runtime.cli import make_cli

from orders.bootstrap import definition

make_cli(definition)()
