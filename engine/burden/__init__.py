"""The burden gates beyond admitted matters (seed 000: 会议多、报表多、检查多): what else county
departments may ask of townships passes the same gate. Meetings first (required attendance,
filed ahead, limited per month, seen on the townships' calendars)."""
