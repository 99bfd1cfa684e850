from unetlab.cli import run

run()
