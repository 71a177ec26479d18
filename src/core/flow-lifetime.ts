// How long an unfinished login flow lives. Past it the flow is expired: its upstream request's secrets (PKCE
// verifier, state, nonce) are scrubbed and nothing can resume it, so a killed login leaves no usable secret behind.

/** 15 minutes since the flow's last step: longer than the longest callback wait (login --timeout allows 15 minutes). */
export const FLOW_LIFETIME_MS = 15 * 60 * 1000;
