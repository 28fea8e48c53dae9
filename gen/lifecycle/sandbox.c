/* gen/lifecycle/sandbox.c — GENERATED from spec/sandbox.rl by tools/gen-lifecycle.py
 * (machine compiled by ragel -T0); do not edit. */


#include <stdbool.h>
#include "lifecycle/sandbox.h"

#pragma GCC diagnostic ignored "-Wunused-const-variable"
#pragma GCC diagnostic ignored "-Wunused-variable"
#define ACT(n) (act_ = ACT_##n)
#define TO(n) (to_ = TO_##n)
#define ACT_create SANDBOX_A_CREATE
#define ACT_start SANDBOX_A_START
#define ACT_stop SANDBOX_A_STOP
#define ACT_delete SANDBOX_A_DELETE
#define TO_creating SANDBOX_S_CREATING
#define TO_created SANDBOX_S_CREATED
#define TO_starting SANDBOX_S_STARTING
#define TO_ready SANDBOX_S_READY
#define TO_stopping SANDBOX_S_STOPPING
#define TO_stopped SANDBOX_S_STOPPED
#define TO_deleting SANDBOX_S_DELETING
#define TO_failed SANDBOX_S_FAILED
#define TO_deleted SANDBOX_S_DELETED


static const char _sandbox_actions[] = {
	0, 1, 0, 1, 1, 1, 2, 1, 
	3, 1, 4, 1, 5, 1, 6, 1, 
	7, 1, 8, 1, 9, 1, 10, 1, 
	11, 1, 12
};

static const char _sandbox_key_offsets[] = {
	0, 0, 1, 3, 8, 10, 15, 17, 
	20, 22, 22
};

static const unsigned char _sandbox_trans_keys[] = {
	1u, 8u, 9u, 2u, 3u, 4u, 5u, 7u, 
	8u, 9u, 3u, 4u, 5u, 6u, 7u, 8u, 
	9u, 5u, 3u, 4u, 8u, 9u, 3u, 4u, 
	5u, 0
};

static const char _sandbox_single_lengths[] = {
	0, 1, 2, 5, 2, 3, 2, 1, 
	2, 0, 3
};

static const char _sandbox_range_lengths[] = {
	0, 0, 0, 0, 0, 1, 0, 1, 
	0, 0, 0
};

static const char _sandbox_index_offsets[] = {
	0, 0, 2, 5, 11, 14, 19, 22, 
	25, 28, 29
};

static const char _sandbox_indicies[] = {
	0, 1, 2, 3, 1, 4, 5, 2, 
	6, 7, 1, 8, 2, 1, 5, 8, 
	6, 7, 1, 7, 9, 1, 6, 7, 
	1, 3, 9, 1, 1, 5, 9, 6, 
	1, 0
};

static const char _sandbox_trans_targs[] = {
	2, 0, 3, 9, 4, 6, 8, 7, 
	5, 10
};

static const char _sandbox_trans_actions[] = {
	1, 0, 0, 0, 3, 5, 7, 0, 
	0, 0
};

static const char _sandbox_to_state_actions[] = {
	0, 0, 9, 11, 13, 15, 17, 19, 
	21, 23, 25
};

static const int sandbox_start = 1;
static const int sandbox_first_final = 11;
static const int sandbox_error = 0;

static const int sandbox_en_main = 1;




/* Run Ragel's machine from Ragel state `cs` over one event symbol. */
static int run(int cs, int event, int *act, int *to)
{
	unsigned char sym = (unsigned char)event;
	const unsigned char *p = &sym, *pe = p + 1;
	int act_ = WR_LC_NO_ACTION, to_ = -1;
	
	{
	int _klen;
	unsigned int _trans;
	const char *_acts;
	unsigned int _nacts;
	const unsigned char *_keys;

	if ( p == pe )
		goto _test_eof;
	if ( cs == 0 )
		goto _out;
_resume:
	_keys = _sandbox_trans_keys + _sandbox_key_offsets[cs];
	_trans = _sandbox_index_offsets[cs];

	_klen = _sandbox_single_lengths[cs];
	if ( _klen > 0 ) {
		const unsigned char *_lower = _keys;
		const unsigned char *_mid;
		const unsigned char *_upper = _keys + _klen - 1;
		while (1) {
			if ( _upper < _lower )
				break;

			_mid = _lower + ((_upper-_lower) >> 1);
			if ( (*p) < *_mid )
				_upper = _mid - 1;
			else if ( (*p) > *_mid )
				_lower = _mid + 1;
			else {
				_trans += (unsigned int)(_mid - _keys);
				goto _match;
			}
		}
		_keys += _klen;
		_trans += _klen;
	}

	_klen = _sandbox_range_lengths[cs];
	if ( _klen > 0 ) {
		const unsigned char *_lower = _keys;
		const unsigned char *_mid;
		const unsigned char *_upper = _keys + (_klen<<1) - 2;
		while (1) {
			if ( _upper < _lower )
				break;

			_mid = _lower + (((_upper-_lower) >> 1) & ~1);
			if ( (*p) < _mid[0] )
				_upper = _mid - 2;
			else if ( (*p) > _mid[1] )
				_lower = _mid + 2;
			else {
				_trans += (unsigned int)((_mid - _keys)>>1);
				goto _match;
			}
		}
		_trans += _klen;
	}

_match:
	_trans = _sandbox_indicies[_trans];
	cs = _sandbox_trans_targs[_trans];

	if ( _sandbox_trans_actions[_trans] == 0 )
		goto _again;

	_acts = _sandbox_actions + _sandbox_trans_actions[_trans];
	_nacts = (unsigned int) *_acts++;
	while ( _nacts-- > 0 )
	{
		switch ( *_acts++ )
		{
	case 0:
	{ ACT(create); }
	break;
	case 1:
	{ ACT(start); }
	break;
	case 2:
	{ ACT(stop); }
	break;
	case 3:
	{ ACT(delete); }
	break;
		}
	}

_again:
	_acts = _sandbox_actions + _sandbox_to_state_actions[cs];
	_nacts = (unsigned int) *_acts++;
	while ( _nacts-- > 0 ) {
		switch ( *_acts++ ) {
	case 4:
	{ TO(creating); }
	break;
	case 5:
	{ TO(created); }
	break;
	case 6:
	{ TO(starting); }
	break;
	case 7:
	{ TO(ready); }
	break;
	case 8:
	{ TO(stopping); }
	break;
	case 9:
	{ TO(stopped); }
	break;
	case 10:
	{ TO(deleting); }
	break;
	case 11:
	{ TO(deleted); }
	break;
	case 12:
	{ TO(failed); }
	break;
		}
	}

	if ( cs == 0 )
		goto _out;
	if ( ++p != pe )
		goto _resume;
	_test_eof: {}
	_out: {}
	}

	*act = act_;
	*to = to_;
	return cs;
}

/* Filled by wr_lc_step() on first use (src/core/lifecycle.c). */
static int cs_of[SANDBOX_N_STATES] = { -1 };

static const char *const state_names[] = {"absent", "creating", "created", "starting", "ready", "stopping", "stopped", "deleting", "failed", "deleted"};
static const char *const event_names[] = {"(none)", "Create", "Start", "Stop", "Wait", "Shutdown", "Exit", "Lost", "Done", "Failed"};
static const char *const action_names[] = {"create", "start", "stop", "delete"};
static const bool transient[] = {false, true, false, true, false, true, false, true, false, false};
static const bool terminal[] = {false, false, false, false, false, false, false, false, false, true};

/* The chart as the generator read it, independently of Ragel. */
static const struct wr_transition model[] = {
	{ SANDBOX_S_ABSENT, SANDBOX_E_CREATE, SANDBOX_A_CREATE, SANDBOX_S_CREATING },
	{ SANDBOX_S_CREATING, SANDBOX_E_DONE, WR_LC_NO_ACTION, SANDBOX_S_CREATED },
	{ SANDBOX_S_CREATING, SANDBOX_E_FAILED, WR_LC_NO_ACTION, SANDBOX_S_DELETED },
	{ SANDBOX_S_CREATED, SANDBOX_E_START, SANDBOX_A_START, SANDBOX_S_STARTING },
	{ SANDBOX_S_CREATED, SANDBOX_E_STOP, SANDBOX_A_STOP, SANDBOX_S_STOPPING },
	{ SANDBOX_S_CREATED, SANDBOX_E_SHUTDOWN, SANDBOX_A_DELETE, SANDBOX_S_DELETING },
	{ SANDBOX_S_CREATED, SANDBOX_E_WAIT, WR_LC_NO_ACTION, SANDBOX_S_CREATED },
	{ SANDBOX_S_CREATED, SANDBOX_E_LOST, WR_LC_NO_ACTION, SANDBOX_S_STOPPED },
	{ SANDBOX_S_STARTING, SANDBOX_E_DONE, WR_LC_NO_ACTION, SANDBOX_S_READY },
	{ SANDBOX_S_STARTING, SANDBOX_E_FAILED, WR_LC_NO_ACTION, SANDBOX_S_CREATED },
	{ SANDBOX_S_READY, SANDBOX_E_STOP, SANDBOX_A_STOP, SANDBOX_S_STOPPING },
	{ SANDBOX_S_READY, SANDBOX_E_SHUTDOWN, SANDBOX_A_DELETE, SANDBOX_S_DELETING },
	{ SANDBOX_S_READY, SANDBOX_E_WAIT, WR_LC_NO_ACTION, SANDBOX_S_READY },
	{ SANDBOX_S_READY, SANDBOX_E_EXIT, WR_LC_NO_ACTION, SANDBOX_S_STOPPED },
	{ SANDBOX_S_READY, SANDBOX_E_LOST, WR_LC_NO_ACTION, SANDBOX_S_STOPPED },
	{ SANDBOX_S_STOPPING, SANDBOX_E_DONE, WR_LC_NO_ACTION, SANDBOX_S_STOPPED },
	{ SANDBOX_S_STOPPING, SANDBOX_E_FAILED, WR_LC_NO_ACTION, SANDBOX_S_FAILED },
	{ SANDBOX_S_STOPPED, SANDBOX_E_STOP, WR_LC_NO_ACTION, SANDBOX_S_STOPPED },
	{ SANDBOX_S_STOPPED, SANDBOX_E_SHUTDOWN, SANDBOX_A_DELETE, SANDBOX_S_DELETING },
	{ SANDBOX_S_STOPPED, SANDBOX_E_WAIT, WR_LC_NO_ACTION, SANDBOX_S_STOPPED },
	{ SANDBOX_S_DELETING, SANDBOX_E_DONE, WR_LC_NO_ACTION, SANDBOX_S_DELETED },
	{ SANDBOX_S_DELETING, SANDBOX_E_FAILED, WR_LC_NO_ACTION, SANDBOX_S_FAILED },
	{ SANDBOX_S_FAILED, SANDBOX_E_STOP, SANDBOX_A_STOP, SANDBOX_S_STOPPING },
	{ SANDBOX_S_FAILED, SANDBOX_E_SHUTDOWN, SANDBOX_A_DELETE, SANDBOX_S_DELETING },
	{ SANDBOX_S_FAILED, SANDBOX_E_WAIT, WR_LC_NO_ACTION, SANDBOX_S_FAILED },
};

const struct wr_lifecycle wr_lifecycle_sandbox = {
	.name = "sandbox",
	.n_states = SANDBOX_N_STATES,
	.n_events = SANDBOX_N_EVENTS,
	.n_actions = SANDBOX_N_ACTIONS,
	.state_names = state_names,
	.event_names = event_names,
	.action_names = action_names,
	.transient = transient,
	.terminal = terminal,
	.initial = SANDBOX_S_ABSENT,
	.ev_done = SANDBOX_E_DONE,
	.ev_failed = SANDBOX_E_FAILED,
	.run = run,
	.start_cs = sandbox_start,
	.error_cs = sandbox_error,
	.cs_of = cs_of,
	.model = model,
	.n_model = 25,
};
