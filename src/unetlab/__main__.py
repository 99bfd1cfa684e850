from unetlab.cli import main
from unetlab.distributed import exit_process

exit_process(main())
