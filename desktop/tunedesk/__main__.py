from tunedesk.cli.main import main

raise SystemExit(main())
