import TandemCLI

await Tandem.main()
