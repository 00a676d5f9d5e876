// Placeholder until the subject trie lands.
