from pgaudit.cli import main

main()
