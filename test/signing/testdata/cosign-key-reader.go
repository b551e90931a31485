// An independent reader and writer of cosign's encrypted key format for tollgate's tests, built on
// Go's golang.org/x/crypto scrypt and nacl/secretbox (what go-securesystemslib's `encrypted` package,
// and so cosign, use) and crypto/x509's PKCS#8 parser. Built in GOPATH mode against Debian's
// golang-golang-x-crypto-dev.
//
//	cosign-key-reader decrypt KEYFILE   (password in TOLLGATE_PASSWORD) prints the public key as PEM
//	cosign-key-reader encrypt N PREFIX  writes PREFIX.key (scrypt N) and PREFIX.pub for a new P-256 key
package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"os"
	"strconv"

	"golang.org/x/crypto/nacl/secretbox"
	"golang.org/x/crypto/scrypt"
)

type kdf struct {
	Name   string         `json:"name"`
	Params map[string]int `json:"params"`
	Salt   []byte         `json:"salt"`
}

type cipher struct {
	Name  string `json:"name"`
	Nonce []byte `json:"nonce"`
}

type data struct {
	KDF        kdf    `json:"kdf"`
	Cipher     cipher `json:"cipher"`
	Ciphertext []byte `json:"ciphertext"`
}

func fail(format string, a ...interface{}) {
	fmt.Fprintf(os.Stderr, format+"\n", a...)
	os.Exit(1)
}

func main() {
	password := []byte(os.Getenv("TOLLGATE_PASSWORD"))
	switch os.Args[1] {
	case "decrypt":
		raw, err := os.ReadFile(os.Args[2])
		if err != nil {
			fail("%v", err)
		}
		block, _ := pem.Decode(raw)
		if block == nil || block.Type != "ENCRYPTED SIGSTORE PRIVATE KEY" {
			fail("not an ENCRYPTED SIGSTORE PRIVATE KEY")
		}
		var d data
		if err := json.Unmarshal(block.Bytes, &d); err != nil {
			fail("json: %v", err)
		}
		if d.KDF.Name != "scrypt" || d.Cipher.Name != "nacl/secretbox" || d.KDF.Params["r"] != 8 || d.KDF.Params["p"] != 1 {
			fail("unexpected parameters")
		}
		fmt.Fprintf(os.Stderr, "N=%d\n", d.KDF.Params["N"])
		key, err := scrypt.Key(password, d.KDF.Salt, d.KDF.Params["N"], 8, 1, 32)
		if err != nil {
			fail("scrypt: %v", err)
		}
		var k [32]byte
		var nonce [24]byte
		copy(k[:], key)
		copy(nonce[:], d.Cipher.Nonce)
		plain, ok := secretbox.Open(nil, d.Ciphertext, &nonce, &k)
		if !ok {
			fail("decryption failed")
		}
		priv, err := x509.ParsePKCS8PrivateKey(plain)
		if err != nil {
			fail("pkcs8: %v", err)
		}
		ec, ok := priv.(*ecdsa.PrivateKey)
		if !ok {
			fail("not an ECDSA key")
		}
		spki, err := x509.MarshalPKIXPublicKey(&ec.PublicKey)
		if err != nil {
			fail("%v", err)
		}
		pem.Encode(os.Stdout, &pem.Block{Type: "PUBLIC KEY", Bytes: spki})
	case "encrypt":
		n, _ := strconv.Atoi(os.Args[2])
		prefix := os.Args[3]
		ec, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		der, _ := x509.MarshalPKCS8PrivateKey(ec)
		salt := make([]byte, 32)
		rand.Read(salt)
		var nonce [24]byte
		rand.Read(nonce[:])
		key, err := scrypt.Key(password, salt, n, 8, 1, 32)
		if err != nil {
			fail("scrypt: %v", err)
		}
		var k [32]byte
		copy(k[:], key)
		d := data{KDF: kdf{Name: "scrypt", Params: map[string]int{"N": n, "r": 8, "p": 1}, Salt: salt}, Cipher: cipher{Name: "nacl/secretbox", Nonce: nonce[:]}, Ciphertext: secretbox.Seal(nil, der, &nonce, &k)}
		body, _ := json.Marshal(d)
		os.WriteFile(prefix+".key", pem.EncodeToMemory(&pem.Block{Type: "ENCRYPTED SIGSTORE PRIVATE KEY", Bytes: body}), 0o600)
		spki, _ := x509.MarshalPKIXPublicKey(&ec.PublicKey)
		os.WriteFile(prefix+".pub", pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: spki}), 0o644)
	default:
		fail("usage: cosign-key-reader decrypt KEYFILE | encrypt N PREFIX")
	}
}
