package postgres

// ClaimCrossingsQuery is the oversight sweep's statement, for the test of its plan.
const ClaimCrossingsQuery = claimCrossings
