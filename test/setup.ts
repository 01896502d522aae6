// Tests never reach the internet: every socket they open goes to a listener they started on loopback.
process.env.NO_COLOR = '1';
