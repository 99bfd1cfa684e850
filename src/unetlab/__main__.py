from unetlab.cli import main

raise SystemExit(main())
