/*
 * ids.h: check digits of Chinese identifiers and masking for display.
 */
#ifndef IDS_H
#define IDS_H

#include <stdbool.h>
#include <stddef.h>

/* GB 11643 resident ID: 17 digits + ISO 7064 MOD 11-2 check (0-9 or upper
 * case X), with a plausible birth date (YYYYMMDD at offset 6). */
bool	ids_resident_id_valid(const char *s);
/* GB 32100 unified social credit code: 18 characters from
 * "0123456789ABCDEFGHJKLMNPQRTUWXY", last one the MOD 31 check character. */
bool	ids_uscc_valid(const char *s);
/* Bank card: 12 to 19 digits, last one the Luhn check digit. */
bool	ids_card_valid(const char *s);
/* CNAPS bank code: exactly 12 digits. */
bool	ids_bank_code_valid(const char *s);
/* Computes the check character for the first 17 digits of an ID (for
 * generators and tests); returns '?' if the input is not 17 digits. */
char	ids_resident_id_check(const char *first17);
/* Computes the USCC check character for the first 17 characters, or '?'. */
char	ids_uscc_check(const char *first17);
/* Computes the Luhn digit to append to digits, or '?'. */
char	ids_luhn_check(const char *digits);
/* Copies s into out keeping the first 4 and last 4 characters and replacing
 * the rest with '*' ("4101**********1234"); short values are fully masked. */
void	ids_mask(const char *s, char *out, size_t outlen);

#endif
