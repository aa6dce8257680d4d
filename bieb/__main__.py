from bieb.manage import main

main()
