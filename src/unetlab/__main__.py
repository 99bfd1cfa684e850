"""The ``unetlab`` command's entry: ``python -m unetlab``, and :func:`main` for a console
script. It loads the command line's modules (``unetlab.cli``, some 20-40 ms after Python's
own start-up) with a stop signal ending the process in one line and the shell's status for
it (Ctrl-C 130, SIGTERM 143, SIGHUP 129: :func:`unetlab.signals.interrupt_exits`), as a
command stopped later ends; a signal while Python itself starts (``site``, ``.pth`` files)
is Python's own."""

from typing import NoReturn

from unetlab.signals import exit_interrupted, interrupt_exits


def main() -> NoReturn:
    """Run the ``unetlab`` command (:func:`unetlab.cli.run`) and end the process."""
    with interrupt_exits():
        from unetlab.cli import run
    try:
        run()
    except KeyboardInterrupt:  # between the guard's end and run's own (microseconds)
        exit_interrupted()


if __name__ == "__main__":
    main()
