import argon2

from vanban.directory.adapters.password import Argon2PasswordHasher


async def test_argon2id_hashes_verify_and_refuse() -> None:
    hasher = Argon2PasswordHasher()
    encoded = await hasher.hash("vanban-demo")
    assert encoded.startswith("$argon2id$")
    assert await hasher.verify(encoded, "vanban-demo")
    assert not await hasher.verify(encoded, "vanban-demO")
    assert not await hasher.verify("not a hash", "vanban-demo")
    assert not await hasher.verify(hasher.dummy_hash, "vanban-demo")
    assert not hasher.needs_rehash(encoded)


async def test_a_hash_made_with_weaker_parameters_needs_rehashing() -> None:
    weak = argon2.PasswordHasher(time_cost=1, memory_cost=8 * 1024, parallelism=1)
    hasher = Argon2PasswordHasher()
    encoded = weak.hash("vanban-demo")
    assert await hasher.verify(encoded, "vanban-demo")
    assert hasher.needs_rehash(encoded)
