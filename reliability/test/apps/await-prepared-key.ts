// An app that asks for a key whose background generation was started (by `prepare`) and awaits
// nothing else: the wait for the key must keep the process alive, though the worker making it
// does not, or the app would exit without its key and without a word.
import { createInMemoryKeyProvider } from "@certbound/credential-msi";

const keys = createInMemoryKeyProvider();
keys.prepare("system");
keys.getKey("system").then(({ privateKey, publicKey }) => {
  console.log(
    `key: ${privateKey.asymmetricKeyType} ${privateKey.asymmetricKeyDetails?.modulusLength} ${publicKey.type}`,
  );
});
