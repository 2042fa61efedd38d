"""What Rolecall keeps: the ledger of deliveries and jobs, the issue slots, the leases."""
