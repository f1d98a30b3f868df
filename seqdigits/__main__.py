from seqdigits.cli import main

raise SystemExit(main())
