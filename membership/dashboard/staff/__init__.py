"""Staff accounts and sign-in: accounts, passwords, roles, the sign-in throttles' device cookie."""
