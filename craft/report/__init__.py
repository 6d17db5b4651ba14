"""What ``craft verify`` writes besides its report: exchange logs and the HTML page."""
