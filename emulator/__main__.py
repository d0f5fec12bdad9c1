try:
    from emulator.cli import main
except KeyboardInterrupt:  # Ctrl-C before the command line is even read: nothing started, nothing to say
    raise SystemExit(0) from None

raise SystemExit(main())
